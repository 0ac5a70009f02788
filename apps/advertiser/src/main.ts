import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { serviceFromEnv } from './advertiser-service.js';

await runService(serviceFromEnv());
