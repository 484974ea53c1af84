// Run in a process of its own on a private keyring (its env): reads one keytar entry over the Secret Service
// directly, `process.argv[2]` times in all and `process.argv[3]` at once — each read on a new connection, as each
// `latchkey token` makes one — while keytar (libsecret) writes another entry over and over beside them.
// Prints {"right", "wrong", "unanswered", "writes"} as JSON: a read that got no answer in time is `unanswered`.
import keytar from 'keytar';
import { createSecretServiceProbe } from '../../src/core/keychain/secret-service.ts';

const [total = 1000, atOnce = 10] = process.argv.slice(2).map(Number);
const service = 'latchkey-concurrent-reads';
const secret = `{"refresh_token":"${'r'.repeat(500)}","name":"sécret ✓ 鍵"}`;
await keytar.setPassword(service, 'read', secret);

let right = 0;
let wrong = 0;
let unanswered = 0;
let writes = 0;
let done = false;
const writer = (async () => {
  while (!done) {
    await keytar.setPassword(service, 'written', 'w'.repeat(1 + (writes % 900)));
    writes += 1;
  }
})();
let started = 0;
await Promise.all(
  Array.from({ length: atOnce }, async () => {
    while (started < total) {
      started += 1;
      const found = await createSecretServiceProbe().read!(service, 'read');
      if (found === undefined) unanswered += 1;
      else if (found.state === 'unlocked' && found.secret === secret) right += 1;
      else wrong += 1;
    }
  }),
);
done = true;
await writer;
console.log(JSON.stringify({ right, wrong, unanswered, writes }));
process.exit(0);
