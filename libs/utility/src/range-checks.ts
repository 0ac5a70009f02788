export function requireNonNegative(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${field} must be a finite number >= 0, got ${String(value)}`);
  }
}

export function requireProbability(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new RangeError(`${field} must be a probability in [0, 1], got ${String(value)}`);
  }
}

export function requirePositiveProbability(field: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RangeError(`${field} must be a probability in (0, 1], got ${String(value)}`);
  }
}

export function requireSlots(slots: number): void {
  if (!Number.isInteger(slots) || slots < 1) {
    throw new RangeError(`slots must be an integer >= 1, got ${String(slots)}`);
  }
}

export function forCandidate<T>(adId: number, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RangeError) {
      throw new RangeError(`candidate adId ${adId}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
