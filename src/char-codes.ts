/** UTF-16 code units of the ASCII characters that the hand-written scanners (formats, spans) look for. */
export const enum Char {
  Tab = 9,
  LineFeed = 10,
  CarriageReturn = 13,
  Space = 32,
  Quote = 34,
  Plus = 43,
  Comma = 44,
  Dash = 45,
  Dot = 46,
  Zero = 48,
  Colon = 58,
  OpenBracket = 91,
  Backslash = 92,
  CloseBracket = 93,
  OpenBrace = 123,
  CloseBrace = 125,
}
