import { Inject } from '@nestjs/common';

/** Injection token of the app's validated config object (the value `loadConfig` returned). */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** `constructor(@InjectConfig() private readonly config: AppConfig)` */
export const InjectConfig = (): ParameterDecorator & PropertyDecorator => Inject(APP_CONFIG);
