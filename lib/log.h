/* log.h -- one JSON line per event on stderr; never a secret */
#ifndef USHER_LOG_H
#define USHER_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR, LOG_LVL__MAX };

void	log_init(const char *prog, enum log_level min);
/* The request id added to every line until cleared with NULL. */
void	log_set_request(const char *id);
void	log_msg(enum log_level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __func__, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __func__, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __func__, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LVL_ERROR, __func__, __VA_ARGS__)

#endif /* USHER_LOG_H */
