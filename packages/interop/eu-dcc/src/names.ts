import { EuDccInputError } from './errors.js';

/**
 * Holder names for the DCC `nam` group. DIVOC's `POST /eu-certificate` takes them from the holder (the
 * credential has one `name` string, which cannot be split into surname and forename reliably):
 * `fn` + `fnt` are required; `gn` requires `gnt`; `fnt`/`gnt` follow ICAO 9303 (`^[A-Z<]*$`, ≤ 80).
 */
export interface EuHolderNames {
  /** Surname(s) as written. */
  fn: string;
  /** Surname(s), ICAO 9303 transliteration. */
  fnt: string;
  /** Forename(s) as written. */
  gn?: string | undefined;
  /** Forename(s), ICAO 9303 transliteration. */
  gnt?: string | undefined;
}

export const ICAO_NAME = /^[A-Z<]*$/;
export const NAME_MAX_LENGTH = 80;

const checkIcao = (field: string, value: unknown, issues: string[]): void => {
  if (typeof value !== 'string' || value.length === 0) issues.push(`${field} is required`);
  else if (!ICAO_NAME.test(value)) issues.push(`${field} must match ^[A-Z<]*$ (ICAO 9303), got "${value}"`);
  else if (value.length > NAME_MAX_LENGTH) issues.push(`${field} is longer than ${NAME_MAX_LENGTH} characters`);
};

const checkText = (field: string, value: unknown, issues: string[]): void => {
  if (typeof value !== 'string' || value.trim().length === 0) issues.push(`${field} is required`);
  else if (value.normalize('NFC').trim().length > NAME_MAX_LENGTH) {
    issues.push(`${field} is longer than ${NAME_MAX_LENGTH} characters`);
  }
};

/**
 * Checks holder-supplied names (any JSON) and returns them NFC-normalised and trimmed. Throws
 * `EuDccInputError` listing every problem.
 */
export const parseEuHolderNames = (input: unknown): EuHolderNames => {
  const issues: string[] = [];
  if (typeof input !== 'object' || input === null) throw new EuDccInputError(['names must be an object']);
  const { fn, fnt, gn, gnt } = input as Record<string, unknown>;
  checkText('fn', fn, issues);
  checkIcao('fnt', fnt, issues);
  const hasGn = gn !== undefined && gn !== null && gn !== '';
  const hasGnt = gnt !== undefined && gnt !== null && gnt !== '';
  if (hasGn) {
    checkText('gn', gn, issues);
    if (!hasGnt) issues.push('gnt is required when gn is given');
  }
  if (hasGnt) {
    if (!hasGn) issues.push('gnt is given without gn');
    checkIcao('gnt', gnt, issues);
  }
  if (issues.length > 0) throw new EuDccInputError(issues);
  return {
    fn: (fn as string).normalize('NFC').trim(),
    fnt: fnt as string,
    ...(hasGn ? { gn: (gn as string).normalize('NFC').trim(), gnt: gnt as string } : {}),
  };
};

/**
 * ICAO Doc 9303 Part 3 §6 transliteration of Latin-script names, for callers that send only `fn`/`gn`.
 * Multinational Latin characters follow table A (Ä→AE, Ö→OE, Ü→UE, Å→AA, ß→SS, Æ→AE, Ø→OE, Þ→TH …);
 * other accented letters lose their marks; spaces and hyphens become the filler `<`; apostrophes and
 * other punctuation are dropped. Non-Latin scripts (and digits) cannot be transliterated here: the
 * holder must supply `fnt`/`gnt`. Output is cut to 80 characters, as the MRZ/DCC field is.
 */
const SPECIAL: Record<string, string> = {
  Ä: 'AE',
  Ö: 'OE',
  Ü: 'UE',
  Å: 'AA',
  Æ: 'AE',
  Ø: 'OE',
  Œ: 'OE',
  ß: 'SS',
  ẞ: 'SS',
  Þ: 'TH',
  Ð: 'D',
  Đ: 'D',
  Ł: 'L',
  Ħ: 'H',
  Ĳ: 'IJ',
  Ŋ: 'N',
  ı: 'I',
  ĸ: 'K',
  ſ: 'S',
  Ŀ: 'L',
};

const FILLERS = /[\s\-‐‑‒–—]+/g;
const DROPPED = /['’‘`´.,]/g;
const COMBINING = /\p{M}/gu;

export const icaoTransliterate = (name: string): string => {
  const upper = name.normalize('NFC').trim().toLocaleUpperCase('en');
  let out = '';
  for (const char of upper.replace(DROPPED, '').replace(FILLERS, '<')) {
    const special = SPECIAL[char] ?? SPECIAL[char.toLowerCase()];
    if (special !== undefined) out += special;
    else if (/[A-Z<]/.test(char)) out += char;
    else {
      const base = char.normalize('NFD').replace(COMBINING, '');
      if (!/^[A-Z]+$/.test(base)) {
        throw new EuDccInputError([
          `"${name}" contains "${char}", which has no ICAO 9303 Latin transliteration here; send fnt/gnt explicitly`,
        ]);
      }
      out += base;
    }
  }
  return out.replace(/<+/g, '<').replace(/^<|<$/g, '').slice(0, NAME_MAX_LENGTH);
};

/** Names with `fnt`/`gnt` derived from `fn`/`gn` where the caller did not send them. */
export const withTransliteration = (names: { fn: string; fnt?: string; gn?: string; gnt?: string }): EuHolderNames => {
  const gn = names.gn?.trim() ? names.gn : undefined;
  return parseEuHolderNames({
    fn: names.fn,
    fnt: names.fnt ?? icaoTransliterate(names.fn),
    ...(gn === undefined ? {} : { gn, gnt: names.gnt ?? icaoTransliterate(gn) }),
  });
};
