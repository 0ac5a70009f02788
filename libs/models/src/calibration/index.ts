export * from './isotonic-regression.js';
export * from './platt-scaling.js';
export * from './position-aware-calibration.js';
export * from './calibration-report.js';
