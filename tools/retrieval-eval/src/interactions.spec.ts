import { describe, expect, it } from '@jest/globals';
import { alignTest, indexTrain, parseInteractions } from './interactions.js';

describe('parseInteractions', () => {
  it('reads lists: one user per line, its items after it, a bare user having none', () => {
    const parsed = parseInteractions('7 3 4\t5\n\n# comment\n9\n7 8\r\n', 'lists', 'train.txt');
    expect(parsed.users).toEqual([7, 7, 7, 7]);
    expect(parsed.items).toEqual([3, 4, 5, 8]);
    expect([...parsed.userIds]).toEqual([7, 9]);
  });

  it('reads pairs and ignores the columns after the item', () => {
    const parsed = parseInteractions('1\t10\t5\t874965758\n2 11\n', 'pairs');
    expect(parsed.users).toEqual([1, 2]);
    expect(parsed.items).toEqual([10, 11]);
  });

  it('names the file and line of a bad id or a short pairs line', () => {
    expect(() => parseInteractions('1 2\n3 x\n', 'lists', 'a.txt')).toThrow(
      'a.txt:2: item "x" is not a non-negative integer id',
    );
    expect(() => parseInteractions('1 2\n-3 4\n', 'pairs', 'b.tsv')).toThrow('b.tsv:2: user "-3"');
    expect(() => parseInteractions('1 2\n\n5\n', 'pairs', 'c.tsv')).toThrow(
      'c.tsv:3: a pairs line needs "user item"',
    );
    expect(() => parseInteractions('1,2\n', 'pairs', 'd.csv')).toThrow('d.csv:1: user "1,2"');
    expect(() => parseInteractions('9007199254740993 1\n', 'pairs')).toThrow('beyond 2^53 - 1');
  });
});

describe('indexTrain and alignTest', () => {
  const train = indexTrain(parseInteractions('10 100 101\n11 101 102\n10 100\n', 'lists'));

  it('maps ids to dense indices in order of first appearance and drops repeated pairs', () => {
    expect([...train.userIndex]).toEqual([
      [10, 0],
      [11, 1],
    ]);
    expect([...train.itemIndex]).toEqual([
      [100, 0],
      [101, 1],
      [102, 2],
    ]);
    expect([...train.pairs]).toEqual([0, 0, 0, 1, 1, 1, 1, 2]);
    expect(train.duplicates).toBe(1);
  });

  it('keeps test items new to the user, and counts cold users, unknown items and train pairs', () => {
    const test = parseInteractions('10 102 102 999 100\n11 100\n12 100\n13\n', 'lists');
    const targets = alignTest(test, train);
    expect([...targets.users]).toEqual([0, 1]);
    expect(targets.relevant.map((s) => [...s])).toEqual([[2], [0]]);
    expect(targets.skipped).toEqual({
      users: 2,
      userInteractions: 1,
      unknownItems: 1,
      inTrain: 1,
      duplicates: 1,
      usersWithNothingLeft: 0,
    });
  });

  it('refuses an empty train file', () => {
    expect(() => indexTrain(parseInteractions('# nothing\n', 'lists'))).toThrow('holds no interactions');
  });
});
