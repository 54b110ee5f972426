import 'reflect-metadata';
import { runService } from '@tocsin/runtime';
import { severityRouterService } from './index';

void runService(severityRouterService);
