import { Queues } from '@adfunnel/contracts';
import { type Counter, Metrics, startAtZero } from '@adfunnel/platform';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import type { Job, JobCounts, Queue } from 'bull';

const STATES = ['waiting', 'active', 'delayed', 'failed'] as const satisfies readonly (keyof JobCounts)[];
/** A scrape does not wait longer than this for Redis; the depths are then left out of it. */
const DEPTH_TIMEOUT_MS = 1000;
/** While Redis fails, one warning per this long rather than one per scrape. */
const WARN_EVERY_MS = 60_000;

interface JobCounters {
  completed: Counter.Internal;
  retried: Counter.Internal;
  failed: Counter.Internal;
  stalled: Counter.Internal;
}

/**
 * The logging service's bull queues on /metrics: how many jobs wait, run, wait to be retried and
 * have failed for good, read from Redis when Prometheus scrapes (never per job), and what this
 * process's workers did with the jobs they took: completed, failed and retried, failed for good
 * (every attempt spent: the job stays in the failed set), stalled (its worker died or hung).
 */
@Injectable()
export class QueueMetrics {
  private readonly logger = new Logger(QueueMetrics.name);
  private warnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    metrics: Metrics,
    @InjectQueue(Queues.events) events: Queue,
    @InjectQueue(Queues.served) served: Queue,
    @InjectQueue(Queues.shadow) shadow: Queue,
  ) {
    const queues = [events, served, shadow];
    const readDepths = (): Promise<JobCounts[]> => this.depths(queues);
    metrics.gauge({
      name: 'adfunnel_logging_queue_jobs',
      help: 'Jobs in each logging queue by state (waiting, active, delayed: waiting to be retried, failed for good)',
      labelNames: ['queue', 'state'],
      async collect() {
        this.reset();
        const counts = await readDepths();
        counts.forEach((count, i) => {
          for (const state of STATES) this.labels(queues[i].name, state).set(count[state]);
        });
      },
    });
    const jobs = metrics.counter({
      name: 'adfunnel_logging_jobs_total',
      help: "Jobs this process's workers finished, by queue and outcome: completed, retried (an attempt failed), failed (the last attempt failed), stalled",
      labelNames: ['queue', 'outcome'],
    });
    for (const queue of queues) this.watch(queue, jobs);
  }

  private watch(queue: Queue, jobs: Counter<'queue' | 'outcome'>): void {
    const counters: JobCounters = {
      completed: startAtZero(jobs.labels(queue.name, 'completed')),
      retried: startAtZero(jobs.labels(queue.name, 'retried')),
      failed: startAtZero(jobs.labels(queue.name, 'failed')),
      stalled: startAtZero(jobs.labels(queue.name, 'stalled')),
    };
    queue.on('completed', () => counters.completed.inc());
    queue.on('failed', (job: Job | null) => {
      // bull sets finishedOn only when it moves the job to the failed set: every attempt spent, or
      // discarded (a job that can never succeed), or stalled past the limit.
      const final = job === null || typeof job.finishedOn === 'number';
      (final ? counters.failed : counters.retried).inc();
    });
    queue.on('stalled', () => counters.stalled.inc());
  }

  private async depths(queues: readonly Queue[]): Promise<JobCounts[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${DEPTH_TIMEOUT_MS} ms`)),
        DEPTH_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([Promise.all(queues.map((queue) => queue.getJobCounts())), timeout]);
    } catch (error) {
      const now = Date.now();
      if (now - this.warnedAt >= WARN_EVERY_MS) {
        this.warnedAt = now;
        this.logger.warn(`queue depths left out of /metrics: ${(error as Error).message}`);
      }
      return [];
    } finally {
      clearTimeout(timer);
    }
  }
}
