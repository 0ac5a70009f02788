import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { serviceFromEnv } from './ranking-service.js';

await runService(serviceFromEnv());
