import * as v from 'valibot';
import { COMMON_PASSWORDS } from './common-passwords.js';
import { AuthKitError, type ValidationIssue } from './errors.js';
import { MAX_PASSWORD_CODE_POINTS, codePointLength, normalizePassword } from './passwords.js';

/** The password policy (S4, S5). No composition rules. */
export interface PasswordPolicy {
  /** Minimum length in code points. Default 8. */
  readonly minLength: number;
}

/** Longest email accepted (RFC 5321 path limit). */
export const MAX_EMAIL_LENGTH = 254;
/** Longest full name accepted. */
export const MAX_FULL_NAME_LENGTH = 200;

/**
 * Normalises an email the way auth-kit stores it: trimmed, lower-cased (S20).
 *
 * @example
 * ```ts
 * normalizeEmail('  Ada@Example.IO '); // "ada@example.io"
 * ```
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Valibot schema for an email: a string, normalised, then checked. */
export const EmailSchema = v.pipe(
  v.string('Email must be a string'),
  v.transform(normalizeEmail),
  v.nonEmpty('Email is required'),
  v.maxLength(MAX_EMAIL_LENGTH, `Email must be at most ${MAX_EMAIL_LENGTH} characters`),
  v.email('Email is not a valid address'),
);

/** Valibot schema for an optional full name. */
export const FullNameSchema = v.nullish(
  v.pipe(
    v.string('Full name must be a string'),
    v.trim(),
    v.maxLength(MAX_FULL_NAME_LENGTH, `Full name must be at most ${MAX_FULL_NAME_LENGTH} characters`),
  ),
);

/**
 * Valibot schema for a new password under `policy`: a string (never coerced, S6), length counted
 * in code points after NFKC normalisation, at most 1024 (S5), not a common password. The output
 * is the password unchanged; hashing normalises it again.
 *
 * @example
 * ```ts
 * v.parse(passwordSchema({ minLength: 15 }), 'correct horse battery staple');
 * ```
 */
export function passwordSchema(policy: PasswordPolicy) {
  return v.pipe(
    v.string('Password must be a string'),
    v.check(
      (p) => codePointLength(normalizePassword(p)) >= policy.minLength,
      `Password must be at least ${policy.minLength} characters`,
    ),
    v.check(
      (p) => codePointLength(normalizePassword(p)) <= MAX_PASSWORD_CODE_POINTS,
      `Password must be at most ${MAX_PASSWORD_CODE_POINTS} characters`,
    ),
    v.check(
      (p) => !COMMON_PASSWORDS.has(normalizePassword(p).toLowerCase()),
      'Password is too common; choose a less guessable one',
    ),
  );
}

/** Schemas built for one password policy. Internal to the services. */
export function userSchemas(policy: PasswordPolicy) {
  const password = passwordSchema(policy);
  return {
    /** `createUser` input: admin-level, may set `isActive`. */
    create: v.object({
      email: EmailSchema,
      password,
      fullName: FullNameSchema,
      isActive: v.optional(v.boolean('isActive must be a boolean')),
    }),
    /** Public registration: privileged fields are dropped (S7). */
    register: v.object({ email: EmailSchema, password, fullName: FullNameSchema }),
    /** `updateUser`: unknown keys are rejected, not ignored. */
    update: v.strictObject(
      {
        email: v.optional(EmailSchema),
        fullName: FullNameSchema,
        isActive: v.optional(v.boolean('isActive must be a boolean')),
        password: v.optional(password),
      },
      'Unknown field: the fields that can be updated are email, fullName, isActive and password',
    ),
  };
}

/**
 * Parses `input` with `schema`, turning valibot issues into one `validation_failed`
 * {@link AuthKitError} whose `issues` list `{ path, message }` per field. Received values are
 * never echoed (they may be passwords).
 */
export function parseInput<const S extends v.GenericSchema>(schema: S, input: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { abortPipeEarly: true });
  if (result.success) return result.output;
  const issues: ValidationIssue[] = result.issues.map((issue) => ({
    path: v.getDotPath(issue) ?? '',
    message: issueMessage(issue),
  }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new AuthKitError('validation_failed', summary || 'Invalid input', { issues });
}

function issueMessage(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object' && issue.path?.length) return issue.message;
  if (issue.type === 'object' || issue.type === 'strict_object') return 'Expected an object';
  // valibot's default messages quote the received value; ours are fixed strings.
  return issue.message.includes('Received') ? `Invalid value: expected ${issue.expected ?? 'another type'}` : issue.message;
}
