/**
 * Generic interaction files for offline retrieval evaluation, and their alignment to dense indices.
 *
 * - `lists`: one line per user, `user item item ...` (integer ids, space or tab separated); a line with
 *   only a user id is a user without interactions. A user on several lines gets the union.
 * - `pairs`: one interaction per line, `user item [anything else]` (tab or space separated): columns
 *   after the second (a rating, a timestamp) are ignored.
 *
 * Ids are non-negative integers (at most 2^53 - 1); blank lines and lines starting with `#` are
 * skipped. Anything else is a RangeError naming the file and the line.
 */
export type InteractionFormat = 'lists' | 'pairs';

export const INTERACTION_FORMATS: readonly InteractionFormat[] = ['lists', 'pairs'];

export interface Interactions {
  /** Parallel arrays of raw ids, one entry per interaction in file order (duplicates kept). */
  readonly users: number[];
  readonly items: number[];
  /** Users named in the file, with or without interactions (a `lists` line may hold just a user). */
  readonly userIds: ReadonlySet<number>;
  readonly lines: number;
}

const ID = /^\d+$/;
const SEPARATOR = /[\t ]+/;

function parseId(token: string, what: string, source: string, line: number): number {
  if (!ID.test(token)) {
    throw new RangeError(`${source}:${line}: ${what} "${token}" is not a non-negative integer id`);
  }
  const id = Number(token);
  if (!Number.isSafeInteger(id))
    throw new RangeError(`${source}:${line}: ${what} ${token} is beyond 2^53 - 1`);
  return id;
}

export function parseInteractions(text: string, format: InteractionFormat, source = 'input'): Interactions {
  if (!INTERACTION_FORMATS.includes(format)) {
    throw new RangeError(`unknown format "${String(format)}"; expected ${INTERACTION_FORMATS.join(' or ')}`);
  }
  const users: number[] = [];
  const items: number[] = [];
  const userIds = new Set<number>();
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === '' || line.startsWith('#')) continue;
    const tokens = line.split(SEPARATOR);
    const user = parseId(tokens[0], 'user', source, lineNo);
    userIds.add(user);
    if (format === 'pairs') {
      if (tokens.length < 2) {
        throw new RangeError(
          `${source}:${lineNo}: a pairs line needs "user item", got "${line.slice(0, 80)}"`,
        );
      }
      users.push(user);
      items.push(parseId(tokens[1], 'item', source, lineNo));
    } else {
      for (let t = 1; t < tokens.length; t++) {
        users.push(user);
        items.push(parseId(tokens[t], 'item', source, lineNo));
      }
    }
  }
  return { users, items, userIds, lines: lineNo };
}

/** Training interactions on dense indices: the models' users and items are those of the train file. */
export interface TrainIndex {
  /** Raw id -> dense index, in order of first appearance in the train file. */
  readonly userIndex: ReadonlyMap<number, number>;
  readonly itemIndex: ReadonlyMap<number, number>;
  /** Distinct (user, item) pairs, interleaved [u0, i0, u1, i1, ...]. */
  readonly pairs: Int32Array;
  /** Repeated (user, item) pairs dropped: a model sees each pair once, as the metrics do. */
  readonly duplicates: number;
}

export function indexTrain(train: Interactions): TrainIndex {
  if (train.users.length === 0) throw new RangeError('the train file holds no interactions');
  const userIndex = new Map<number, number>();
  const itemIndex = new Map<number, number>();
  const dense = (map: Map<number, number>, id: number) => {
    let at = map.get(id);
    if (at === undefined) {
      at = map.size;
      map.set(id, at);
    }
    return at;
  };
  const seen = new Set<number>();
  const pairs: number[] = [];
  let duplicates = 0;
  // Items first, so that the pair key u * items + i uses the final item count (exact below 2^53).
  const itemIds = train.items.map((id) => dense(itemIndex, id));
  for (let r = 0; r < train.users.length; r++) {
    const u = dense(userIndex, train.users[r]);
    const i = itemIds[r];
    const key = u * itemIndex.size + i;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    pairs.push(u, i);
  }
  if (userIndex.size > 2 ** 31 - 1 || itemIndex.size > 2 ** 31 - 1)
    throw new RangeError('too many ids for int32');
  return { userIndex, itemIndex, pairs: Int32Array.from(pairs), duplicates };
}

/** The test interactions each evaluated user should retrieve, and what could not be evaluated. */
export interface TestTargets {
  /** Dense user indices, ascending: users of train with at least one test item left to retrieve. */
  readonly users: Int32Array;
  /** relevant[k]: dense item indices of users[k]'s test items, not among its train items. */
  readonly relevant: readonly ReadonlySet<number>[];
  readonly skipped: {
    /** Test users absent from train: no model has a vector for them (cold users are not scored). */
    readonly users: number;
    readonly userInteractions: number;
    /** Test interactions whose item is absent from train: no model can rank it (dropped as targets). */
    readonly unknownItems: number;
    /** Test interactions already in the user's train items: ranking excludes those, so they cannot count. */
    readonly inTrain: number;
    /** Repeated (user, item) test pairs, counted once. */
    readonly duplicates: number;
    /** Train users whose test interactions were all dropped above. */
    readonly usersWithNothingLeft: number;
  };
}

export function alignTest(test: Interactions, index: TrainIndex): TestTargets {
  const items = index.itemIndex.size;
  const trainKeys = new Set<number>();
  for (let p = 0; p < index.pairs.length; p += 2) trainKeys.add(index.pairs[p] * items + index.pairs[p + 1]);
  const byUser = new Map<number, Set<number>>();
  const coldUsers = new Set<number>();
  let userInteractions = 0;
  let unknownItems = 0;
  let inTrain = 0;
  let duplicates = 0;
  const touched = new Set<number>();
  for (const id of test.userIds) if (!index.userIndex.has(id)) coldUsers.add(id);
  for (let r = 0; r < test.users.length; r++) {
    const u = index.userIndex.get(test.users[r]);
    if (u === undefined) {
      userInteractions++;
      continue;
    }
    touched.add(u);
    const i = index.itemIndex.get(test.items[r]);
    if (i === undefined) {
      unknownItems++;
      continue;
    }
    if (trainKeys.has(u * items + i)) {
      inTrain++;
      continue;
    }
    let set = byUser.get(u);
    if (set === undefined) byUser.set(u, (set = new Set()));
    if (set.has(i)) duplicates++;
    else set.add(i);
  }
  const users = Int32Array.from([...byUser.keys()].sort((a, b) => a - b));
  return {
    users,
    relevant: Array.from(users, (u) => byUser.get(u)!),
    skipped: {
      users: coldUsers.size,
      userInteractions,
      unknownItems,
      inTrain,
      duplicates,
      usersWithNothingLeft: touched.size - byUser.size,
    },
  };
}
