/** A URL path parameter percent-decoded; as given when it is not valid percent-encoding. */
export function decodePathParam(param: string): string {
  try {
    return decodeURIComponent(param);
  } catch {
    return param;
  }
}
