import { parse as parseYaml } from 'yaml';

/**
 * Parses a document as JSON when it is JSON and as YAML otherwise. What the text claims to be (a file
 * extension, a Content-Type) is not trusted: registries label YAML as text/plain and JSON as YAML.
 */
export function parseJsonOrYaml(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    return parseYaml(body);
  }
}
