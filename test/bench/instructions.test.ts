// bench/instructions.ts: the instruction counts `npm run bench:cli` reports. They are worth having only if two counts
// of the same start agree (V8's random prime search taken out) and a start that does more counts more.
import { describe, expect, it } from 'vitest';
import { callgrindAvailable, countInstructions, readCallgrind } from '../../bench/instructions.ts';

describe('readCallgrind', () => {
  it("takes the prime search's own cost out, however callgrind names it, and not the calls it makes", () => {
    // As callgrind writes it: a function named once in a `cfn=` line and then by its id alone in `fn=`; a `calls=`
    // line's cost is the call's (inclusive), not the caller's own.
    const text = [
      'events: Ir',
      'fn=(1) v8::internal::HashSeed::InitializeRoots(v8::internal::Isolate*)',
      '0 100',
      'cfn=(2) detail::sprp(unsigned long long, unsigned long long)',
      'calls=3 0',
      '0 9000',
      'fn=(2)',
      '0 5000',
      '+2 4000',
      'cfn=(3) memcpy',
      'calls=1 0',
      '0 700',
      'fn=(3)',
      '0 700',
      'totals: 10500',
    ].join('\n');
    expect(readCallgrind(text)).toEqual({ total: 10500, primeSearch: 9000 });
  });
});

const available = callgrindAvailable();

describe.skipIf(available !== true || process.platform !== 'linux')(`counting a Node start under callgrind${available === true ? '' : ` (skipped: ${available})`}`, () => {
  it('counts the same start alike twice, and more for a start that does more', async () => {
    const own = async (args: string[]) => {
      const { total, primeSearch } = await countInstructions(args, process.env);
      expect(primeSearch).toBeGreaterThan(0);
      return total - primeSearch;
    };
    const first = await own(['-e', '0']);
    const second = await own(['-e', '0']);
    const busier = await own(['-e', 'let n = 0; for (let i = 0; i < 2e6; i++) n += i % 7; if (n < 0) process.exit(1)']);
    expect(Math.abs(first - second) / first).toBeLessThan(0.01);
    expect(busier - first).toBeGreaterThan(5e6);
  }, 120_000);
});
