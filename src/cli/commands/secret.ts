import { randomBytes } from 'node:crypto';
import { type JwtAlgorithm, MIN_SECRET_BYTES } from 'auth-kit';
import { UsageError, defineCommand } from '../command.js';

export default defineCommand({
  meta: {
    name: 'secret',
    description: 'Print a new random secret for JWT_SECRET_KEY',
    details:
      'The secret is random bytes from the operating system, base64url-encoded: 256 bits for HS256\n' +
      '(384 for HS384, 512 for HS512), the minimum auth-kit accepts for that algorithm.',
    examples: ['auth-kit secret', 'echo "JWT_SECRET_KEY=$(auth-kit secret)" >> .env', 'auth-kit secret --algorithm HS512'],
  },
  args: {
    algorithm: {
      type: 'string',
      valueHint: 'alg',
      description: 'Size the secret for HS256, HS384 or HS512',
      defaultText: 'HS256',
    },
  },
  async run({ args, out }) {
    const algorithm = (args.algorithm ?? 'HS256').toUpperCase();
    if (!Object.hasOwn(MIN_SECRET_BYTES, algorithm)) {
      throw new UsageError('--algorithm must be HS256, HS384 or HS512');
    }
    out.line(randomBytes(MIN_SECRET_BYTES[algorithm as JwtAlgorithm]).toString('base64url'));
  },
});
