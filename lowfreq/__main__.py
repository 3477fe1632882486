from lowfreq.cli import main

main()
