import { parseArgs } from 'node:util';
import { TOPICS } from '@divoc/contracts';
import { createKafkaBus, type EventBus, listDeadLetters, replayDeadLetters, silentLogger } from '@divoc/platform';
import { CliError, EXIT_USAGE } from '../errors.js';

export const dlqUsage = 'divoc dlq list|replay <topic> [--timeout <seconds>]   (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX)';

const TOPIC_NAMES: readonly string[] = Object.values(TOPICS);

const openBus = (): EventBus => {
  const brokers = process.env.KAFKA_BROKERS?.split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers === undefined || brokers.length === 0) {
    throw new CliError(
      'KAFKA_BROKERS is required: dead letters live in Kafka (the embedded bus of `pnpm start` keeps them in that process)',
    );
  }
  return createKafkaBus({
    brokers,
    clientId: 'divoc-cli',
    logger: silentLogger(),
    topicPrefix: process.env.KAFKA_TOPIC_PREFIX ?? '',
    logLevel: 'nothing',
  });
};

/**
 * Dead letters of a topic: `list` prints one JSON line per letter (where it came from, why and when it
 * failed; never the message value, which holds personal data); `replay` publishes the ones not yet
 * replayed back to their topic — after the cause (a config value, a bug) is fixed.
 */
export const dlqCommand = async (args: string[]): Promise<void> => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { timeout: { type: 'string', default: '120' } },
  });
  const [action, topic] = positionals;
  if ((action !== 'list' && action !== 'replay') || topic === undefined || positionals.length > 2) {
    throw new CliError(`usage: ${dlqUsage}`, EXIT_USAGE);
  }
  if (!TOPIC_NAMES.includes(topic)) {
    throw new CliError(`unknown topic "${topic}"; topics are ${TOPIC_NAMES.join(', ')}`, EXIT_USAGE);
  }
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) {
    throw new CliError('--timeout must be a whole number of seconds', EXIT_USAGE);
  }
  const bus = openBus();
  try {
    await bus.health().catch((error: unknown) => {
      throw new CliError(`Kafka is not reachable at ${process.env.KAFKA_BROKERS}: ${(error as Error).message}`);
    });
    if (action === 'list') {
      for (const letter of await listDeadLetters(bus, topic, { timeoutMs: timeoutSeconds * 1000 })) {
        const { value: _value, headers: _headers, ...summary } = letter;
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      }
      return;
    }
    const { replayed } = await replayDeadLetters(bus, topic, { timeoutMs: timeoutSeconds * 1000 });
    process.stdout.write(`${JSON.stringify({ topic, replayed })}\n`);
  } finally {
    await bus.close();
  }
};
