import { Inject } from '@nestjs/common';

export const APP_CONFIG = Symbol('APP_CONFIG');

export const InjectConfig = (): ParameterDecorator & PropertyDecorator => Inject(APP_CONFIG);
