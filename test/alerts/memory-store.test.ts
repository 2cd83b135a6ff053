import { MemoryAlertStore } from '../../src/alerts/memory-store.js';
import { runAlertStoreContract } from './store-contract.js';

runAlertStoreContract('memory', async () => new MemoryAlertStore());
