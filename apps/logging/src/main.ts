import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { serviceFromEnv } from './logging-service.js';

await runService(serviceFromEnv());
