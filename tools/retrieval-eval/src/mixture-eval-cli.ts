#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { DEMO_MARKETPLACE } from '@adfunnel/simulator';
import { evaluateMixture, formatMixtureReport } from './mixture-eval.js';

export const MIXTURE_EVAL_HELP = `Usage: npm run retrieval-eval:mixture -- [--users 500] [--k 200,10] [--engagements 6]
                                        [--seed 1] [--ads N] [--json]

How well three scores of an ad for a user's category affinity rank the ads the user truly likes, on
the simulator's demo marketplace (DEMO_MARKETPLACE). The oracle is the true affinity
Σ interests · topics of the simulator; the estimators read only the ad's declared category and visual
embedding and the user's affinity:

  declared   the affinity for the ad's declared category
  centroid   the cosine of the ad's embedding to the affinity-weighted category centroid
  mixture    the affinity over the mixture CategoryMixtureDecoder decodes from the embedding (the
             interest candidate source's score), decoder built from the catalog's ads

each with two affinities: the user's true interests (an upper bound), and what serving infers from
--engagements organic engagements (80% of a true-interest category, 20% uniform, as the simulator
draws them) folded by foldEngagement and read by userContextOf. Prints per estimator and affinity the
mean over users of the Pearson correlation with the true affinity over all ads and of Recall@K
(|top K by the score ∩ top K by true affinity| / K).

  --users N         users 0 .. N-1 of the marketplace (default 500)
  --k LIST          cut-offs, comma separated (default 200,10)
  --engagements N   organic engagements per user for the inferred affinity (default 6)
  --seed N          seed of the engagement draws (default 1)
  --ads N           cut the marketplace to its first N ads (default ${DEMO_MARKETPLACE.ads}, all)
  --json            one JSON object on stdout
  -h, --help        this text

Exit 0 done, 2 bad usage.
`;

class UsageError extends Error {}

function integer(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${flag} must be an integer of at least ${min}, got "${value}"`);
  }
  return n;
}

function main(): number {
  let options;
  let json;
  try {
    const { values: v } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        users: { type: 'string', default: '500' },
        k: { type: 'string', default: '200,10' },
        engagements: { type: 'string', default: '6' },
        seed: { type: 'string', default: '1' },
        ads: { type: 'string', default: String(DEMO_MARKETPLACE.ads) },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (v.help) {
      process.stdout.write(MIXTURE_EVAL_HELP);
      return 0;
    }
    const ads = integer('ads', v.ads, 1);
    if (ads > DEMO_MARKETPLACE.ads) {
      throw new UsageError(`--ads must be at most ${DEMO_MARKETPLACE.ads}, got ${ads}`);
    }
    const users = integer('users', v.users, 1);
    if (users > DEMO_MARKETPLACE.users) {
      throw new UsageError(`--users must be at most ${DEMO_MARKETPLACE.users}, got ${users}`);
    }
    const ks = [...new Set(v.k.split(',').map((k) => integer('k', k.trim(), 1)))];
    if (ks.some((k) => k > ads)) throw new UsageError(`--k must be at most --ads (${ads})`);
    options = {
      spec: { ...DEMO_MARKETPLACE, ads },
      users,
      ks,
      engagements: integer('engagements', v.engagements, 0),
      seed: integer('seed', v.seed, 0),
    };
    json = v.json;
  } catch (error) {
    process.stderr.write(`retrieval-eval:mixture: ${(error as Error).message}\n\n${MIXTURE_EVAL_HELP}`);
    return 2;
  }
  const report = evaluateMixture(options);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatMixtureReport(report)}\n`);
  return 0;
}

process.exitCode = main();
