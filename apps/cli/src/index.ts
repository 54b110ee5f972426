export { buildProgram } from './program';
export { EXIT } from './context';
