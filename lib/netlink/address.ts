/**
 * IP and MAC addresses between bytes and the strings `ip -j` prints.
 * Hot on dump paths: octet strings come from a table, not toString().
 */

const OCTET = Array.from({ length: 256 }, (_, i) => String(i));
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatIPv4(buf: Uint8Array, offset = 0): string {
  return `${OCTET[buf[offset]]}.${OCTET[buf[offset + 1]]}.${OCTET[buf[offset + 2]]}.${OCTET[buf[offset + 3]]}`;
}

/** RFC 5952 text, as glibc's inet_ntop writes it (so it matches iproute2). */
export function formatIPv6(buf: Uint8Array, offset = 0): string {
  const words = new Array<number>(8);
  for (let i = 0; i < 8; i++) words[i] = (buf[offset + 2 * i] << 8) | buf[offset + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  // inet_ntop's embedded-IPv4 forms: ::a.b.c.d (compat) and ::ffff:a.b.c.d (mapped).
  if (
    bestStart === 0 &&
    (bestLen === 6 || (bestLen === 7 && words[7] !== 1) || (bestLen === 5 && words[5] === 0xffff))
  ) {
    return `::${bestLen === 5 ? 'ffff:' : ''}${formatIPv4(buf, offset + 12)}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i].toString(16);
  }
  return out;
}

/** 4 or 16 bytes, or null when the text is not an address of that kind. */
export function parseIPv4(text: string): Buffer | null {
  const v = parseIPv4Value(text, 0, text.length);
  if (v < 0) return null;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(v, 0);
  return out;
}

/**
 * The dotted quad in text[start, end) as an unsigned 32-bit number, or -1.
 * By hand, not split/regex, and without a Buffer or a substring: this runs
 * for every address of every request (a batch of 100k routes has 200k).
 */
export function parseIPv4Value(text: string, start: number, end: number): number {
  const n = end - start;
  if (n < 7 || n > 15) return -1;
  let part = 0;
  let value = 0;
  let digits = 0;
  let result = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return -1;
      result = result * 256 + value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return -1; // no leading zeros ('01')
      value = value * 10 + (c - 48);
      if (value > 255) return -1;
      digits++;
    } else return -1;
  }
  return part === 4 ? result : -1;
}

export function parseIPv6(text: string): Buffer | null {
  if (text.length < 2 || text.length > 45) return null;
  let head = text;
  let tail = '';
  const dbl = text.indexOf('::');
  if (dbl !== -1) {
    if (text.indexOf('::', dbl + 1) !== -1) return null;
    head = text.slice(0, dbl);
    tail = text.slice(dbl + 2);
  }
  const parseGroups = (part: string, allowV4: boolean): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (!v4) return null;
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  const first = parseGroups(head, dbl === -1);
  const last = dbl === -1 ? [] : parseGroups(tail, true);
  if (!first || !last) return null;
  const missing = 8 - first.length - last.length;
  if (dbl === -1 ? missing !== 0 : missing < 1) return null;
  const words = [...first, ...new Array<number>(dbl === -1 ? 0 : missing).fill(0), ...last];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i], 2 * i);
  return out;
}

/** An IPv4 or IPv6 address: its family and bytes, or null. */
export function parseIP(text: string): { family: 4 | 6; bytes: Buffer } | null {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIPv6(text);
  if (v6) return { family: 6, bytes: v6 };
  return null;
}

export function formatIP(buf: Uint8Array, offset: number, length: number): string {
  if (length === 4) return formatIPv4(buf, offset);
  if (length === 16) return formatIPv6(buf, offset);
  return formatHex(buf, offset, length);
}

/** Char codes of '0'..'f' by nibble, and ':'+hex by byte, for formatMac. */
const NIBBLE = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const COLON_HEX2 = HEX2.map((h) => `:${h}`);
const COLON = 0x3a;

/**
 * 'aa:bb:cc:dd:ee:ff' (any length, as for infiniband's 20-byte addresses;
 * '' for none). A link dump makes two per link: a 6-byte one is built as
 * one flat string from char codes, 3-4x faster than concatenating pieces.
 */
export function formatMac(buf: Uint8Array, offset = 0, length = 6): string {
  if (length === 6) {
    const a = buf[offset];
    const b = buf[offset + 1];
    const c = buf[offset + 2];
    const d = buf[offset + 3];
    const e = buf[offset + 4];
    const f = buf[offset + 5];
    // prettier-ignore
    return String.fromCharCode(
      NIBBLE[a >> 4], NIBBLE[a & 15], COLON, NIBBLE[b >> 4], NIBBLE[b & 15], COLON, NIBBLE[c >> 4], NIBBLE[c & 15],
      COLON, NIBBLE[d >> 4], NIBBLE[d & 15], COLON, NIBBLE[e >> 4], NIBBLE[e & 15], COLON, NIBBLE[f >> 4], NIBBLE[f & 15],
    );
  }
  if (length <= 0) return '';
  let out = HEX2[buf[offset]];
  for (let i = 1; i < length; i++) out += COLON_HEX2[buf[offset + i]];
  return out;
}

export function parseMac(text: string): Buffer | null {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*$/.test(text)) return null;
  return Buffer.from(text.replace(/:/g, ''), 'hex');
}

export function formatHex(buf: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += HEX2[buf[offset + i]];
  return out;
}

/** A prefix in CIDR form: 'default' or 'a.b.c.d/len' or an address (host prefix). */
export interface ParsedPrefix {
  family: 4 | 6;
  bytes: Buffer;
  prefixLength: number;
}

export function parsePrefix(text: string, defaultFamily: 4 | 6 = 4): ParsedPrefix | null {
  if (text === 'default')
    return { family: defaultFamily, bytes: Buffer.alloc(defaultFamily === 4 ? 4 : 16), prefixLength: 0 };
  const slash = text.indexOf('/');
  // IPv4 without a substring (this runs per address of a batch)
  const v4 = parseIPv4Value(text, 0, slash === -1 ? text.length : slash);
  let family: 4 | 6;
  let bytes: Buffer;
  if (v4 >= 0) {
    family = 4;
    bytes = Buffer.allocUnsafe(4);
    bytes.writeUInt32BE(v4, 0);
  } else {
    const ip = parseIP(slash === -1 ? text : text.slice(0, slash));
    if (!ip) return null;
    ({ family, bytes } = ip);
  }
  const max = family === 4 ? 32 : 128;
  if (slash === -1) return { family, bytes, prefixLength: max };
  // '0' or a decimal without a leading zero, at most 3 digits
  const digits = text.length - slash - 1;
  if (digits < 1 || digits > 3 || (digits > 1 && text.charCodeAt(slash + 1) === 48)) return null;
  let prefixLength = 0;
  for (let i = slash + 1; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return null;
    prefixLength = prefixLength * 10 + c;
  }
  if (prefixLength > max) return null;
  return { family, bytes, prefixLength };
}
