import '../../harness/polyfills.ts';
