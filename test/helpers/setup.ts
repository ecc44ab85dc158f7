import '../../harness/polyfills.ts';
import { containerDefaults } from '../../harness/host/container-env.ts';

// In-process CLI tests use a fake host; testcontainers still reads the real environment.
containerDefaults(process.env);
