import 'reflect-metadata';
import { runService } from '@tocsin/runtime';
import { dispatcherService } from './index';

void runService(dispatcherService);
