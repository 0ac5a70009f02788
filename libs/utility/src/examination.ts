/**
 * Examination probabilities by slot: the chance a user looks at slot s at all. The model's pCTR is
 * read as the click probability of an ad that is examined, measured where nearly every ad is: slot 0.
 * So examination[0] is 1 and an ad's click rate in slot s is examination[s] x pCTR.
 */
export type Examination = readonly number[];

/** The most slots an auction request may ask for (AuctionRequestSchema). */
const MAX_SLOTS = 10;

/**
 * 3 / (s + 3): 1, 0.75, 0.6, 0.5, 0.43, ... A reciprocal-rank decay slowed by 3 slots, in the range
 * eye-tracking and click-model studies report for the first few results; a stand-in until it is
 * learnt from logs.
 */
export const DEFAULT_EXAMINATION: Examination = Object.freeze(
  Array.from({ length: MAX_SLOTS }, (_, s) => 3 / (s + 3)),
);

/** Every position examined alike: position plays no part (the auction before position effects). */
export const FLAT_EXAMINATION: Examination = Object.freeze(Array.from({ length: MAX_SLOTS }, () => 1));

/** Slots past the end of the vector keep its last probability. */
export function examinationAt(examination: Examination, slot: number): number {
  return examination[Math.min(slot, examination.length - 1)];
}

/** A vector that starts at 1 and never increases, every entry in (0, 1]. */
export function requireExamination(examination: Examination): void {
  if (!Array.isArray(examination) || examination.length === 0) {
    throw new RangeError('examination must be a non-empty list of probabilities');
  }
  examination.forEach((e, s) => {
    if (typeof e !== 'number' || !Number.isFinite(e) || e <= 0 || e > 1) {
      throw new RangeError(`examination[${s}] must be a probability in (0, 1], got ${String(e)}`);
    }
    if (s === 0 && e !== 1) {
      throw new RangeError(`examination[0] must be 1 (pCTR is the click rate at slot 0), got ${e}`);
    }
    if (s > 0 && e > examination[s - 1]) {
      throw new RangeError(
        `examination must not increase down the page, but examination[${s}] = ${e} > examination[${s - 1}] = ${examination[s - 1]}`,
      );
    }
  });
}
