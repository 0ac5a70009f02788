import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { serviceFromEnv } from './retrieval-service.js';

await runService(serviceFromEnv());
