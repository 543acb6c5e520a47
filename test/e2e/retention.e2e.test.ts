import { afterAll } from 'vitest';
import { killAllNodes } from '../support/nodeProcess.js';
import { describeRetentionByCount } from './retentionByCount.js';

afterAll(killAllNodes);

describeRetentionByCount('retention');
