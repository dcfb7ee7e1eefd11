/**
 * The deadbolt/secure benchmarks, in one process with samples of the loops interleaved:
 * Enclave seal + open against a bare secretbox round trip, Secret.withBytes against calling
 * the callback on a plain Buffer, and purge() of 1,000 buffers.
 *
 *   node secure-loop.mjs <config JSON>
 *
 * config: { distUrl, sodiumPath, samples, targetMs, warmupMs, purgeTrials }. Prints one JSON line.
 */
import { createRequire } from 'node:module';
import { report, runMain, sample, settle, time, warmUp } from '../fs/common.mjs';

async function main() {
  const config = JSON.parse(process.argv[2] ?? '');
  const { Enclave, LockedBuffer, SecretFactory, purge } = await import(config.distUrl);
  const sodium = createRequire(import.meta.url)(config.sodiumPath);
  const key = sodium.sodium_malloc(sodium.crypto_secretbox_KEYBYTES);
  sodium.randombytes_buf(key);
  const message = Buffer.alloc(32, 7);
  const nonce = Buffer.alloc(sodium.crypto_secretbox_NONCEBYTES);
  const boxed = Buffer.alloc(32 + sodium.crypto_secretbox_MACBYTES);
  const opened = Buffer.alloc(32);
  const secret = SecretFactory.random(32);
  const plain = Buffer.alloc(32, 1);
  const touch = (bytes) => bytes[0];
  let sink = 0;
  const loops = {
    secretbox: async (n) => {
      for (let i = 0; i < n; i++) {
        sodium.randombytes_buf(nonce);
        sodium.crypto_secretbox_easy(boxed, message, nonce, key);
        if (!sodium.crypto_secretbox_open_easy(opened, boxed, nonce, key)) throw new Error('open failed');
      }
    },
    enclave: async (n) => {
      for (let i = 0; i < n; i++) {
        const enclave = await Enclave.seal(LockedBuffer.random(32));
        const buffer = await enclave.open();
        await buffer.destroy();
      }
    },
    withBytes: async (n) => {
      for (let i = 0; i < n; i++) sink += await secret.withBytes(touch);
    },
    plainCallback: async (n) => {
      for (let i = 0; i < n; i++) sink += await (async () => touch(plain))();
    },
  };
  const units = {};
  for (const [name, run] of Object.entries(loops)) units[name] = await warmUp(run, 10, config.targetMs, config.warmupMs);
  const samples = Object.fromEntries(Object.keys(loops).map((name) => [name, []]));
  for (let s = 0; s < config.samples; s++) {
    for (const [name, run] of Object.entries(loops)) samples[name].push(...(await sample(run, units[name], 1)));
  }
  const purgeMs = [];
  for (let t = 0; t < config.purgeTrials; t++) {
    const buffers = Array.from({ length: 1_000 }, () => LockedBuffer.random(32));
    await settle();
    let destroyed = 0;
    purgeMs.push(await time(async () => (destroyed = await purge())));
    if (destroyed < buffers.length) throw new Error(`purge destroyed ${destroyed} of ${buffers.length}`);
    await settle();
  }
  await secret.close();
  report({ samples, purgeMs, sink: sink > 0 });
}

runMain(main);
