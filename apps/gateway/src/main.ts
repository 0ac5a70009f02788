import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { serviceFromEnv } from './gateway-service.js';

await runService(serviceFromEnv());
