import 'reflect-metadata';
import { runService } from '@adfunnel/platform';
import { loadGatewayConfig } from './config.js';
import { gatewayServiceOptions } from './gateway-service.js';

await runService(gatewayServiceOptions(loadGatewayConfig()));
