import { Logger } from '@nestjs/common';
import { logLevel, type logCreator } from 'kafkajs';

/** Routes kafkajs logs through Nest's logger so they come out as the app's JSON lines. */
export const nestLogCreator: logCreator = () => {
  const logger = new Logger('kafkajs');
  return ({ level, log }) => {
    const { message, ...extra } = log;
    const line = `${message} ${JSON.stringify(extra)}`;
    if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error(line);
    else if (level === logLevel.WARN) logger.warn(line);
    else if (level === logLevel.INFO) logger.log(line);
    else logger.debug(line);
  };
};
