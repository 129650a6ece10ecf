/**
 * JSON bodies as Go's `json.Encoder` writes them (image-factory.md §2.1): one value, then `\n`;
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c` … (HTML-safe escaping). For the strings the
 * service emits (IDs, canonical YAML, references) everything else matches `JSON.stringify`.
 */
const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

export function goJson(value: unknown): string {
  // The characters replaced never occur in JSON syntax outside strings, so a global replace is exact.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => ESCAPES[c]!) + '\n';
}
