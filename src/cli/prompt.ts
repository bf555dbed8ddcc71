/**
 * Reading a secret: a hidden prompt on a terminal, or all of stdin (`--password-stdin`). Never
 * from an argument, which would land in shell history and in `ps` output.
 */
import { CliError, type Io } from './command.js';

/**
 * Asks for a value on the terminal without echoing it. Backspace and Ctrl-U edit, Ctrl-C and
 * Ctrl-D on an empty line cancel. Raw mode is set before the question is written, so nothing typed
 * early is echoed by the terminal.
 */
export function promptHidden(io: Io, question: string): Promise<string> {
  const { stdin, stderr } = io;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') {
    return Promise.reject(new CliError('stdin is not a terminal'));
  }
  const setRawMode = stdin.setRawMode.bind(stdin);
  setRawMode(true);
  stderr.write(question);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolvePrompt, rejectPrompt) => {
    let value = '';
    const finish = (error: Error | null) => {
      stdin.off('data', onData);
      setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      if (error) rejectPrompt(error);
      else resolvePrompt(value);
    };
    const onData = (chunk: string | Buffer) => {
      const text = String(chunk);
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003' || (ch === '\u0004' && value === '')) return finish(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = Array.from(value).slice(0, -1).join('');
        else if (ch === '\u0015') value = '';
        else if (ch === '\u001b') return; // an escape sequence (arrow keys): ignore the rest of it
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Reads stdin to its end, as `docker login --password-stdin` does: one trailing newline (from
 * `echo` or a file) is dropped, nothing else is trimmed.
 */
export async function readSecretFromStdin(io: Io): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
