/** The shells `latchkey agent` prints lines for: sh, bash and zsh by default, csh/tcsh and fish on request. */
export type Shell = 'sh' | 'csh' | 'fish';

const VARIABLE = 'LATCHKEY_AGENT_SOCK';

/** The lines that point this shell's commands at the agent on `socketPath`, for `eval`, as ssh-agent prints them. */
export function agentStartedLines(shell: Shell, socketPath: string, pid: number): string {
  const path = quote(shell, socketPath);
  const set = shell === 'csh' ? `setenv ${VARIABLE} ${path};` : shell === 'fish' ? `set -gx ${VARIABLE} ${path};` : `${VARIABLE}=${path}; export ${VARIABLE};`;
  return `${set}\necho Latchkey agent pid ${pid};\n`;
}

/** The lines that forget the agent after `--stop`. */
export function agentStoppedLines(shell: Shell): string {
  const unset = shell === 'csh' ? `unsetenv ${VARIABLE};` : shell === 'fish' ? `set -e ${VARIABLE};` : `unset ${VARIABLE};`;
  return `${unset}\necho Latchkey agent stopped;\n`;
}

/** Single quotes keep every character literal in sh and csh; fish also reads \\ and \' inside them. */
function quote(shell: Shell, value: string): string {
  if (shell === 'fish') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
