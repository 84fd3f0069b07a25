// The tuner's public face: the one function the compiler calls, and the database it reads.

export { selectKernels, type SelectOptions, type SelectionReport, type TuneOptions } from './search.ts';
export { TuningDb, defaultDbPath } from './db.ts';
