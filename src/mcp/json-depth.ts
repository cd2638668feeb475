/**
 * Whether JSON text nests objects and arrays deeper than `max`, found by one pass over the text
 * before it is parsed. Deep input is cheap to send and expensive to hold: every later step that
 * walks it recursively (schema validation, JSON.stringify, redaction) would overflow the stack
 * and answer 500. Brackets inside strings do not count.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}
