import 'reflect-metadata';
import { runService } from '@tocsin/runtime';
import { probeIngestService } from './index';

void runService(probeIngestService);
