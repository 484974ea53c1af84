import { describe, expect, it } from 'vitest';
import { agentStartedLines, agentStoppedLines } from '../../../src/cli/agent/shell-lines.ts';

describe('the lines latchkey agent prints for eval', () => {
  it('quote the socket path so every shell reads it back as it is', () => {
    const path = "/tmp/it's here/agent.sock";
    expect(agentStartedLines('sh', path, 7)).toBe(`LATCHKEY_AGENT_SOCK='/tmp/it'\\''s here/agent.sock'; export LATCHKEY_AGENT_SOCK;\necho Latchkey agent pid 7;\n`);
    expect(agentStartedLines('csh', path, 7)).toBe(`setenv LATCHKEY_AGENT_SOCK '/tmp/it'\\''s here/agent.sock';\necho Latchkey agent pid 7;\n`);
    expect(agentStartedLines('fish', path, 7)).toBe(`set -gx LATCHKEY_AGENT_SOCK '/tmp/it\\'s here/agent.sock';\necho Latchkey agent pid 7;\n`);
  });

  it('forget the variable after --stop', () => {
    expect(agentStoppedLines('sh')).toBe('unset LATCHKEY_AGENT_SOCK;\necho Latchkey agent stopped;\n');
    expect(agentStoppedLines('csh')).toBe('unsetenv LATCHKEY_AGENT_SOCK;\necho Latchkey agent stopped;\n');
    expect(agentStoppedLines('fish')).toBe('set -e LATCHKEY_AGENT_SOCK;\necho Latchkey agent stopped;\n');
  });
});
