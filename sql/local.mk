# sql/local.mk -- numbered, forward-only migrations
dist_sql_DATA += sql/0001-accounts.sql sql/0002-mail.sql \
    sql/0003-mail-enqueue.sql
