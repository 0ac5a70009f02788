/**
 * The one tokenizer for ad text and queries, so a query's words match an ad's the same way in the
 * lexical candidate source, the ranking features and the models' hashed text inputs: Unicode-aware,
 * lower-cased (locale-independent), split on anything that is not a letter or a digit. "USB-C hub"
 * is `usb`, `c`, `hub`.
 */
export function textTokens(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) out.push(match[0]);
  return out;
}

/** The tokens and each adjacent pair joined by a space ("running shoes"), in order. */
export function wordsAndBigrams(text: string): string[] {
  const words = textTokens(text);
  const out = [...words];
  for (let i = 1; i < words.length; i++) out.push(`${words[i - 1]} ${words[i]}`);
  return out;
}

/**
 * Share of the query's distinct words that occur in the document's token set: 1 when the ad names
 * every word of the query, 0 for no query or no overlap.
 */
export function queryWordCoverage(
  queryWords: readonly string[],
  documentTokens: ReadonlySet<string>,
): number {
  const distinct = new Set(queryWords);
  if (distinct.size === 0) return 0;
  let hits = 0;
  for (const word of distinct) if (documentTokens.has(word)) hits++;
  return hits / distinct.size;
}
