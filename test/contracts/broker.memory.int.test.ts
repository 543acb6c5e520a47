import { createMemoryBroker } from '../../src/broker/memoryBroker.js';
import { brokerContract } from './broker.contract.js';

brokerContract('memory', async () => {
  const broker = createMemoryBroker();
  return { a: broker, b: broker, cleanup: () => broker.close() };
});
