import 'reflect-metadata';
import { runService } from '@tocsin/runtime';
import { apiService } from './index';

void runService(apiService);
