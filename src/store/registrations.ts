import type { RegistrationStore, StoredRegistration } from '../registry/registry.js';
import type { HistoryStore } from './types.js';

/**
 * The registry's view of a HistoryStore. The registry keys instances by
 * service/id (ids may repeat across services); the store by one id, so the
 * stored id is the full key.
 */
export function registrationStore(store: HistoryStore): RegistrationStore {
  return {
    putRegistration: (reg) => store.putRegistration({ ...reg, id: `${reg.service}/${reg.id}` }),
    deleteRegistration: async ({ service, id }) => void (await store.deleteRegistration(`${service}/${id}`)),
    listRegistrations: async (): Promise<StoredRegistration[]> =>
      (await store.listRegistrations()).map((r) => ({ ...r, id: r.id.startsWith(`${r.service}/`) ? r.id.slice(r.service.length + 1) : r.id })),
  };
}
