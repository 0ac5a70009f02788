import type { z } from 'zod';

/**
 * One readable sentence per problem, joined with "; ": `user.country: expected one of ...;
 * unknown field "foo"`. Paths use dots and [index] for arrays.
 */
export function formatZodError(error: z.ZodError): string {
  return error.issues.map(describeIssue).join('; ');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.map((key) => `"${where ? `${where}.${key}` : key}"`);
    return `unknown field${fields.length > 1 ? 's' : ''} ${fields.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) {
    return where ? `${where}: is required` : 'a value is required';
  }
  const message =
    issue.code === 'invalid_type' && issue.expected === 'int'
      ? 'expected an integer'
      : issue.message.replace(/^(Invalid input|Invalid option|Too big|Too small): /, '');
  return where ? `${where}: ${message}` : message;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}
