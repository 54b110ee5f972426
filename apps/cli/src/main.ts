import { Command } from 'commander';

const program = new Command('tocsin').description('Tocsin control-plane command line').version('0.1.0');
program.parse();
