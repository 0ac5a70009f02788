#!/usr/bin/env node
import { RETRIEVAL_EVAL_HELP, UsageError, parseRetrievalEvalArgs } from './retrieval-eval-cli-args.js';
import { evaluateRetrieval, formatReport } from './retrieval-eval.js';

async function main(): Promise<number> {
  let args;
  try {
    args = parseRetrievalEvalArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`retrieval-eval: ${error.message}\n\n${RETRIEVAL_EVAL_HELP}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(RETRIEVAL_EVAL_HELP);
    return 0;
  }
  try {
    const report = await evaluateRetrieval(args);
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`retrieval-eval: ${(error as Error).message}\n`);
    // Bad input (a file, a line, K) is the caller's to fix, as bad usage is.
    return error instanceof RangeError ? 2 : 1;
  }
}

process.exitCode = await main();
