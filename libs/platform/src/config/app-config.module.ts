import { type DynamicModule, Module } from '@nestjs/common';
import { APP_CONFIG } from './app-config.constants.js';

@Module({})
export class AppConfigModule {
  static forRoot<T extends object>(config: T): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
