"""The center's background work: a job table used as a queue (:mod:`.queue`), the running of
one job (:mod:`.execution`), the kinds of jobs (:mod:`.handlers`), and the in-process
worker of the embedded center (:mod:`.runner`)."""
