// What a user of the published package writes; type-checked against dist/*.d.ts by
// test/types/published-types.test.ts with skipLibCheck off, so the declarations themselves must be sound.
import { lockAll, Mutex, RwLock, type Guard } from 'deadbolt';
import { FileLock, Store, type StoreSnapshot } from 'deadbolt/fs';
import { Coffer, Enclave, LockedBuffer, SecretFactory } from 'deadbolt/secure';

export async function useEverything(): Promise<StoreSnapshot<{ a: number }>> {
  const mutex = new Mutex({ name: 'consumer', rank: 1 });
  const guard: Guard = await mutex.lock({ timeout: 10 });
  guard.release();
  (await lockAll([mutex, new RwLock().reader])).release();
  new FileLock('/tmp/consumer.lock').tryLock('shared')?.release();
  const store = new Store<{ a: number }>('/tmp/consumer.json', { initial: { a: 1 } });
  const enclave = await Enclave.seal(LockedBuffer.random(8), new Coffer({ rekeyIntervalMs: 0 }));
  await (await enclave.open()).withBytes((bytes) => bytes.length);
  await SecretFactory.random(4).close();
  return store.update((draft) => {
    draft.a += 1;
  });
}
