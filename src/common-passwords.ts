/**
 * The most common passwords of at least 8 characters from public breach-corpus top lists
 * (compared after NFKC normalisation, case-insensitively). Shorter ones already fail the
 * minimum length. Deliberately small (S5): a denylist, not a strength meter.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '12345678', '123456789', '1234567890', '12345678910', '123123123', '11111111', '00000000',
  '87654321', '987654321', '0987654321', '11223344', '12341234', '1q2w3e4r', '1q2w3e4r5t',
  '1qaz2wsx', 'qwertyui', 'qwertyuiop', 'qwerty123', 'qwerty1234', '1qazxsw2', 'asdfghjk',
  'asdfghjkl', 'zxcvbnm1', 'password', 'password1', 'password12', 'password123', 'password!',
  'passw0rd', 'p@ssw0rd', 'p@ssword', 'iloveyou', 'iloveyou1', 'sunshine', 'princess',
  'football', 'baseball', 'superman', 'starwars', 'whatever', 'trustno1', 'welcome1',
  'welcome123', 'letmein1', 'master123', 'michelle', 'jennifer', 'corvette', 'computer',
  'internet', 'changeme', 'changeme123', 'admin123', 'administrator', 'abcd1234', 'abc12345',
  'abcdefgh', 'aa123456', 'a1b2c3d4', 'q1w2e3r4', 'zaq12wsx', 'qazwsxedc', 'secret123',
  'shadow123', 'dragon123', 'monkey123', 'football1', 'baseball1', 'liverpool', 'chocolate',
  'butterfly', 'pokemon123', 'mustang1', 'jordan23', 'michael1', 'charlie1', 'loveme123',
  'test1234', 'testtest', 'qwer1234', 'asdf1234', 'zxcv1234', 'default1', 'login123',
  'hello123', 'hellohello', 'myspace1', 'freedom1', 'samsung1', 'letmein123', 'iloveu123',
]);
