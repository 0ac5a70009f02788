import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { serviceFromEnv } from './auction-service.js';

await runService(serviceFromEnv());
